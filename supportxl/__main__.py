from supportxl.cli import main

main()
