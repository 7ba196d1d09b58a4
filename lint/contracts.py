"""import-linter contract types of our own (pyproject.toml's [tool.importlinter] names them)."""

from importlinter import Contract, ContractCheck, fields, output


class PublicModulesContract(Contract):
    """Each app of `container` is reached by the others through its public modules only: those named in `public`
    (an app's facade and contracts) and the modules in `also_public`. `importers_allowed` (the composition root)
    may import anything."""

    type_name = "public_modules"

    container = fields.StringField()
    public = fields.ListField(subfield=fields.StringField())
    also_public = fields.ListField(subfield=fields.StringField(), required=False, default=[])
    importers_allowed = fields.ListField(subfield=fields.StringField(), required=False, default=[])

    def _app_of(self, module: str) -> str | None:
        prefix = f"{self.container}."
        return module[len(prefix) :].split(".")[0] if module.startswith(prefix) else None

    def _public(self, module: str) -> bool:
        parts = module.split(".")
        return module in self.also_public or (len(parts) > 2 and parts[2] in self.public)

    def check(self, graph, verbose: bool) -> ContractCheck:
        reached = []
        for importer in sorted(graph.modules):
            if any(importer == m or importer.startswith(f"{m}.") for m in self.importers_allowed):
                continue
            for imported in sorted(graph.find_modules_directly_imported_by(importer)):
                app = self._app_of(imported)
                if app is None or app == self._app_of(importer) or self._public(imported):
                    continue
                lines = [d["line_number"] for d in graph.get_import_details(importer=importer, imported=imported)]
                reached.append({"importer": importer, "imported": imported, "lines": lines})
        return ContractCheck(kept=not reached, metadata={"reached": reached})

    def render_broken_contract(self, check: ContractCheck) -> None:
        for item in check.metadata["reached"]:
            lines = ", ".join(f"l.{n}" for n in item["lines"])
            output.print_error(f"{item['importer']} -> {item['imported']} ({lines}) is not public", bold=False)
            output.new_line()
