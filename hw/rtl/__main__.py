"""`python -m hw.rtl --config configs/NAME.yaml`: write build/NAME/rtl/."""

from configs.schema import run_cli
from hw.rtl.generate import main

if __name__ == "__main__":
    run_cli(main)
