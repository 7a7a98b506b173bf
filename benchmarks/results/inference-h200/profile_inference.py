"""Where detector and CHR inference time goes on a device: stage timings, profiler tables, variants."""
import sys, time, json
import torch
import torch.nn.functional as F
from torch.profiler import profile, ProfilerActivity
from torchvision import models
from torchvision.models.detection.image_list import ImageList
from segloc.config import load_config
from segloc.detection import FinetuneConfig, build_detector
from segloc.detection.forward import run_detector, to_scan_frame
from segloc.classification.chr import CHRNet

cuda = torch.cuda.is_available()
dev = torch.device("cuda" if cuda else "cpu")
small = not cuda
cfg = load_config(sys.argv[1], FinetuneConfig, [] if not small else ["model.arch=resnet18", "model.attention=false", "model.image_size=160"]).model
B = 8 if cuda else 2
S = cfg.image_size

def sync():
    if cuda: torch.cuda.synchronize()

def timed(f, n=5):
    f(); sync()
    ts = []
    for _ in range(n):
        sync(); t = time.perf_counter(); f(); sync(); ts.append(time.perf_counter() - t)
    return sorted(ts)[len(ts) // 2]

torch.manual_seed(0)
m = build_detector(cfg, 12, masks=True).to(dev)
gen = torch.Generator().manual_seed(0)
imgs = [torch.rand(3, S * 3 // 4, S, generator=gen).to(dev) for _ in range(B)]
sizes = [tuple(i.shape[-2:]) for i in imgs]
padded = m.transform(imgs)[0].tensors
m.backbone.train()
with torch.no_grad():
    for _ in range(15): m.backbone(padded)
m.eval()
print("device", torch.cuda.get_device_name(0) if cuda else "cpu", "torch", torch.__version__)
with torch.no_grad():
    bare = timed(lambda: m.backbone(padded))
    full = timed(lambda: run_detector(m, imgs, sizes))
    fwd = timed(lambda: m(imgs))
    dets = run_detector(m, imgs, sizes)
print(f"batch {B}: bare {bare*1e3:.1f} ms, run_detector {full*1e3:.1f} ms (ratio {bare/full:.3f}), torchvision forward {fwd*1e3:.1f} ms (ratio {bare/fwd:.3f}); dets/img {sum(len(d['boxes']) for d in dets)/B}")

# stage timings
tr = m.transform
def stages():
    T = {}
    def st(name, f):
        sync(); t = time.perf_counter(); r = f(); sync(); T[name] = T.get(name, 0) + time.perf_counter() - t; return r
    normalised = st("normalize+batch", lambda: ImageList(tr.batch_images([tr.normalize(i) for i in imgs], tr.size_divisible), sizes))
    feats = st("backbone", lambda: m.backbone(normalised.tensors))
    props, _ = st("rpn", lambda: m.rpn(normalised, feats))
    h = m.roi_heads
    boxes, scores = props, []
    for stage in h.stages:
        x = st("box_pool", lambda: h.box_roi_pool(feats, boxes, sizes))
        logits, deltas = st("box_head", lambda: stage(x))
        scores.append(F.softmax(logits, -1))
        boxes = st("refine", lambda: stage.refine(deltas, boxes, sizes))
    res = st("postprocess", lambda: h._postprocess(boxes, torch.stack(scores).mean(0)))
    mx = st("mask_pool", lambda: h.mask_roi_pool(feats, [r["boxes"] for r in res], sizes))
    ml = st("mask_head", lambda: h.mask_predictor(h.mask_head(mx)))
    from torchvision.models.detection.roi_heads import maskrcnn_inference
    probs = st("mask_select", lambda: maskrcnn_inference(ml, [r["labels"] for r in res]))
    for r, p in zip(res, probs): r["masks"] = p
    st("paste", lambda: [to_scan_frame(r, s, s) for r, s in zip(res, sizes)])
    return T
with torch.no_grad():
    stages(); T = stages()
print("stages (ms):", {k: round(v * 1e3, 2) for k, v in T.items()}, "sum", round(sum(T.values()) * 1e3, 1))

acts = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if cuda else [])
with torch.no_grad(), profile(activities=acts) as p:
    run_detector(m, imgs, sizes); sync()
key = "cuda_time_total" if cuda else "cpu_time_total"
print(p.key_averages().table(sort_by="self_" + key.replace("_total", "_total"), row_limit=25, max_name_column_width=50))
print(p.key_averages().table(sort_by="self_cpu_time_total", row_limit=20, max_name_column_width=50))

if cuda:  # the same detections on the GPU as on the CPU
    from segloc.detection import ModelConfig
    torch.manual_seed(0)
    small = build_detector(ModelConfig(arch="resnet18", attention=False, image_size=128, fpn_channels=32,
                                       mask_head_dim=32, box_head_dim=64, rpn_pre_nms_test=100, rpn_post_nms_test=50), 3, True)
    for mod in small.roi_heads.modules():
        if isinstance(mod, torch.nn.Linear): torch.nn.init.normal_(mod.weight, std=0.05)
    small.eval()
    scans = [torch.rand(3, 150, 200, generator=gen), torch.rand(3, 90, 120, generator=gen)]
    ref = run_detector(small, scans, [(150, 200), (90, 120)])
    got = run_detector(small.to(dev), [s.to(dev) for s in scans], [(150, 200), (90, 120)])
    for r, g in zip(ref, got):
        n = min(len(r["boxes"]), len(g["boxes"]))
        print("cpu vs cuda: detections", len(r["boxes"]), len(g["boxes"]), "max box diff (first n)",
              (r["boxes"][:n] - g["boxes"][:n].cpu()).abs().max().item(), "max score diff", (r["scores"][:n] - g["scores"][:n].cpu()).abs().max().item(),
              "mask agreement", ((r["masks"][:n] > 0.5) == (g["masks"][:n].cpu() > 0.5)).float().mean().item())

# CHR
arch = "resnet101" if cuda else "resnet18"
bs = 32 if cuda else 4
x = torch.randn(bs, 3, 224, 224, device=dev)
net = CHRNet(arch, 5, "chr").to(dev).eval()
bare_net = getattr(models, arch)(weights=None, num_classes=5).to(dev).eval()
with torch.no_grad():
    tb = timed(lambda: bare_net(x), 10); tc = timed(lambda: net.predict(x), 10)
    print(f"CHR {arch} batch {bs}: bare {tb*1e3:.2f} ms, chr {tc*1e3:.2f} ms, ratio {tb/tc:.3f}")
    if cuda:
        torch.backends.cudnn.benchmark = True
        tb = timed(lambda: bare_net(x), 10); tc = timed(lambda: net.predict(x), 10)
        print(f"  cudnn.benchmark: bare {tb*1e3:.2f} ms, chr {tc*1e3:.2f} ms, ratio {tb/tc:.3f}")
        torch.backends.cudnn.benchmark = False
    with profile(activities=acts) as p:
        net.predict(x); sync()
    print(p.key_averages().table(sort_by="self_" + key, row_limit=15, max_name_column_width=50))
    # CHR parts
    def parts():
        T = {}
        def st(name, f):
            sync(); t = time.perf_counter(); r = f(); sync(); T[name] = time.perf_counter() - t; return r
        low, mid, high = st("trunk", lambda: net.trunk(x))
        top = st("lateral0", lambda: net.lateral[0](high))
        m1 = st("lateral1", lambda: net.lateral[1](mid))
        from segloc.classification.chr import _upsample_cat
        c1 = st("upcat1", lambda: _upsample_cat(high, m1))
        mr = st("fuse0", lambda: net.fuse[0](c1))
        l2 = st("lateral2", lambda: net.lateral[2](low))
        c2 = st("upcat2", lambda: _upsample_cat(mr, l2))
        lr = st("fuse1", lambda: net.fuse[1](c2))
        st("heads", lambda: torch.stack([fc(mm.mean(dim=(2, 3))) for fc, mm in zip(net.classifiers, [top, mr, lr])]).mean(0))
        return T
    parts(); print("CHR parts (ms):", {k: round(v * 1e3, 3) for k, v in parts().items()})
