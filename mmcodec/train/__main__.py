"""``python -m mmcodec.train CONFIG.json``: train or resume the run a JSON config describes."""
import json
import sys

from .trainer import TrainConfig, train

if __name__ == "__main__":
    train(TrainConfig(**json.loads(open(sys.argv[1]).read())))
