"""What a client or a GPU host needs to talk to AITBC: HTTP, canonical JSON and signatures. No Django."""
