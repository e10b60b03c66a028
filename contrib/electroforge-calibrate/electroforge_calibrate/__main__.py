from electroforge_calibrate.cli import run

run()
