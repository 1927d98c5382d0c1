"""``python -m mmcodec.train CONFIG``: train or resume the run a YAML/JSON config describes."""
import sys

from .config import load_config
from .trainer import train

if __name__ == "__main__":
    train(load_config(sys.argv[1]))
