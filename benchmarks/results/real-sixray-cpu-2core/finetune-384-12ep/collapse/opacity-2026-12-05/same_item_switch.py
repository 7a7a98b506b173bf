"""SegLoc pretraining whose first pairs show one item on both bags: a screen, outside the product.

Usage: python same_item_switch.py CONFIG OUT SWITCH_PAIRS [KEY=VALUE ...] (config overrides)
Pairs with index below SWITCH_PAIRS paste the same segment (independently transformed) on their two
backgrounds; later pairs are SegLoc's own (two items of one class). Every random draw stays as in
SegLoc's sampler, so the pairs differ from the plain run's only in the second view's item.
"""

import sys
from pathlib import Path

from segloc.config import load_config
from segloc.pretrain.config import PretrainConfig
from segloc.pretrain.trainer import pretrain
from segloc.synthesis.pairs import SegLocPairSampler

config_path, out, switch = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3])
overrides = sys.argv[4:]

plain_call, plain_draw = SegLocPairSampler.__call__, SegLocPairSampler._draw_instances


def call(self, index):
    self.current_index = index
    return plain_call(self, index)


def draw(self, category, rng):
    first, second = plain_draw(self, category, rng)
    return (first, first) if self.current_index < switch else (first, second)


SegLocPairSampler.__call__, SegLocPairSampler._draw_instances = call, draw
config = load_config(config_path, PretrainConfig, overrides)
result = pretrain(config, out)
print(result.run_dir, result.step, result.checkpoint)
