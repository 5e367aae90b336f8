from hpobench.cli import main

main()
