"""Multiply-accumulates per scan of a detector config (torch.utils.flop_counter), by part, with random
weights and BatchNorm statistics settled on the batch: python flops.py CONFIG [section.key=value ...]."""
import sys, torch
from torch.utils.flop_counter import FlopCounterMode
from segloc.config import load_config
from segloc.detection import FinetuneConfig, build_detector
from segloc.detection.forward import run_detector
torch.set_num_threads(1)
cfg = load_config(sys.argv[1], FinetuneConfig, sys.argv[2:]).model
torch.manual_seed(0)
m = build_detector(cfg, 12, masks=True).eval()
gen = torch.Generator().manual_seed(0)
S = cfg.image_size
imgs = [torch.rand(3, S*3//4, S, generator=gen) for _ in range(2)]
padded = m.transform(imgs)[0].tensors
m.backbone.train()
with torch.no_grad():
    for _ in range(20): m.backbone(padded)
m.backbone.eval()
def count(f):
    with FlopCounterMode(display=False) as c, torch.no_grad(): f()
    return c.get_total_flops() / 2 / 1e9
from torchvision.models.detection.image_list import ImageList
il = ImageList(padded, [tuple(i.shape[-2:]) for i in imgs])
with torch.no_grad():
    feats = m.backbone(padded)
    props, _ = m.rpn(il, feats)
b = count(lambda: m.backbone(padded))
r = count(lambda: m.rpn(il, feats))
h = count(lambda: m.roi_heads(feats, props, il.image_sizes))
t = count(lambda: run_detector(m, imgs, [tuple(i.shape[-2:]) for i in imgs]))
print(f"GMAC per image: backbone+FPN {b/2:.2f}, RPN {r/2:.2f}, RoI heads {h/2:.2f} (box heads + masks), whole {t/2:.2f}; compute-bound ratio ceiling {b/t:.2f}")
