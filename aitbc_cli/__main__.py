from aitbc_cli.main import main

main()
