"""Cascade R-CNN RoI heads (Cai & Vasconcelos 2018) on torchvision's detection building blocks.

Each stage re-samples the previous stage's refined boxes at a higher IoU threshold and has its
own box head, class-agnostic regressor and target normalisation. Test time follows mmdetection:
boxes are refined stage by stage, the class score is the mean of every stage's softmax, and the
mask head (on the last stage) runs on the final detections. Plugs into ``GeneralizedRCNN`` in
place of ``RoIHeads``.
"""
from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torchvision.models.detection import _utils as det_utils
from torchvision.models.detection.roi_heads import maskrcnn_inference, maskrcnn_loss
from torchvision.ops import MultiScaleRoIAlign, boxes as box_ops


class AgnosticBoxPredictor(nn.Module):
    """Class scores (K + 1 with background) and one class-agnostic box delta per RoI."""

    def __init__(self, in_features: int, num_classes: int) -> None:
        super().__init__()
        self.cls_score = nn.Linear(in_features, num_classes + 1)
        self.bbox_pred = nn.Linear(in_features, 4)
        nn.init.normal_(self.cls_score.weight, std=0.01)
        nn.init.normal_(self.bbox_pred.weight, std=0.001)
        nn.init.zeros_(self.cls_score.bias)
        nn.init.zeros_(self.bbox_pred.bias)

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        x = x.flatten(start_dim=1)
        return self.cls_score(x), self.bbox_pred(x)


class CascadeStage(nn.Module):
    """One stage: IoU-threshold matching and sampling, box head, predictor and its weighted loss."""

    def __init__(self, box_head: nn.Module, predictor: AgnosticBoxPredictor, iou_thresh: float,
                 target_stds: Sequence[float], loss_weight: float, batch_size_per_image: int = 512,
                 positive_fraction: float = 0.25) -> None:
        super().__init__()
        self.box_head = box_head
        self.predictor = predictor
        self.matcher = det_utils.Matcher(iou_thresh, iou_thresh, allow_low_quality_matches=False)
        self.sampler = det_utils.BalancedPositiveNegativeSampler(batch_size_per_image, positive_fraction)
        self.coder = det_utils.BoxCoder(tuple(1.0 / s for s in target_stds))
        self.loss_weight = loss_weight

    def forward(self, roi_features: Tensor) -> tuple[Tensor, Tensor]:
        return self.predictor(self.box_head(roi_features))

    def sample(self, proposals: list[Tensor], targets: list[dict[str, Tensor]]) -> dict[str, list[Tensor]]:
        """Add the ground truth to the proposals, label them at this stage's IoU, sample a batch.

        Returns per image: sampled ``boxes``, ``labels`` (0 = background), ``matched`` gt index,
        box regression ``targets`` and ``is_gt`` (sampled boxes that are ground-truth copies).
        """
        out: dict[str, list[Tensor]] = {"boxes": [], "labels": [], "matched": [], "targets": [], "is_gt": []}
        all_labels, all_matched, all_boxes, all_is_gt = [], [], [], []
        for props, target in zip(proposals, targets):
            gt_boxes, gt_labels = target["boxes"].to(props.dtype), target["labels"]
            boxes = torch.cat([props, gt_boxes])
            is_gt = torch.arange(len(boxes), device=boxes.device) >= len(props)
            if len(gt_boxes) == 0:
                matched = torch.zeros(len(boxes), dtype=torch.int64, device=boxes.device)
                labels = torch.zeros(len(boxes), dtype=torch.int64, device=boxes.device)
            else:
                idx = self.matcher(box_ops.box_iou(gt_boxes, boxes))
                matched = idx.clamp(min=0)
                labels = gt_labels[matched].to(torch.int64)
                labels[idx < 0] = 0
            all_labels.append(labels)
            all_matched.append(matched)
            all_boxes.append(boxes)
            all_is_gt.append(is_gt)
        positives, negatives = self.sampler(all_labels)
        for boxes, labels, matched, is_gt, pos, neg, target in zip(
                all_boxes, all_labels, all_matched, all_is_gt, positives, negatives, targets):
            keep = torch.where(pos | neg)[0]
            gt_boxes = target["boxes"].to(boxes.dtype)
            if len(gt_boxes) == 0:
                gt_boxes = boxes.new_zeros((1, 4))
            out["boxes"].append(boxes[keep])
            out["labels"].append(labels[keep])
            out["matched"].append(matched[keep])
            out["is_gt"].append(is_gt[keep])
            out["targets"].append(self.coder.encode_single(gt_boxes[matched[keep]], boxes[keep]))
        return out

    def loss(self, class_logits: Tensor, deltas: Tensor, labels: list[Tensor],
             targets: list[Tensor]) -> tuple[Tensor, Tensor]:
        """Weighted cross-entropy and smooth-L1 (beta 1, as mmdetection's cascade) over the sampled RoIs."""
        labels_all, targets_all = torch.cat(labels), torch.cat(targets)
        cls_loss = F.cross_entropy(class_logits, labels_all)
        pos = labels_all > 0
        box_loss = F.smooth_l1_loss(deltas[pos], targets_all[pos], beta=1.0, reduction="sum")
        box_loss = box_loss / max(1, labels_all.numel())
        return self.loss_weight * cls_loss, self.loss_weight * box_loss

    def refine(self, deltas: Tensor, boxes: list[Tensor], image_shapes: list[tuple[int, int]]) -> list[Tensor]:
        """Apply this stage's regression to its input boxes, clipped to each image."""
        decoded = self.coder.decode_single(deltas, torch.cat(boxes)).split([b.shape[0] for b in boxes])
        return [box_ops.clip_boxes_to_image(b, shape) for b, shape in zip(decoded, image_shapes)]


class CascadeRoIHeads(nn.Module):
    """Multi-stage box heads on shared RoI features, optional mask head on the last stage."""

    def __init__(self, box_roi_pool: MultiScaleRoIAlign, stages: Sequence[CascadeStage],
                 score_thresh: float = 0.05, nms_thresh: float = 0.5, detections_per_img: int = 100,
                 mask_roi_pool: MultiScaleRoIAlign | None = None, mask_head: nn.Module | None = None,
                 mask_predictor: nn.Module | None = None, mask_loss_weight: float = 1.0) -> None:
        super().__init__()
        if (mask_roi_pool is None) != (mask_head is None) or (mask_head is None) != (mask_predictor is None):
            raise ValueError("mask_roi_pool, mask_head and mask_predictor go together")
        self.box_roi_pool = box_roi_pool
        self.stages = nn.ModuleList(stages)
        self.score_thresh = score_thresh
        self.nms_thresh = nms_thresh
        self.detections_per_img = detections_per_img
        self.mask_roi_pool = mask_roi_pool
        self.mask_head = mask_head
        self.mask_predictor = mask_predictor
        self.mask_loss_weight = mask_loss_weight

    @property
    def has_mask(self) -> bool:
        return self.mask_head is not None

    def _mask_logits(self, features: dict[str, Tensor], boxes: list[Tensor],
                     image_shapes: list[tuple[int, int]]) -> Tensor:
        return self.mask_predictor(self.mask_head(self.mask_roi_pool(features, boxes, image_shapes)))

    def forward(self, features: dict[str, Tensor], proposals: list[Tensor], image_shapes: list[tuple[int, int]],
                targets: list[dict[str, Tensor]] | None = None) -> tuple[list[dict[str, Tensor]], dict[str, Tensor]]:
        if self.training:
            if targets is None:
                raise ValueError("targets are required in training mode")
            return [], self._train_forward(features, proposals, image_shapes, targets)
        return self._inference(features, proposals, image_shapes), {}

    def _train_forward(self, features: dict[str, Tensor], proposals: list[Tensor],
                       image_shapes: list[tuple[int, int]], targets: list[dict[str, Tensor]]) -> dict[str, Tensor]:
        losses: dict[str, Tensor] = {}
        boxes = [p.detach() for p in proposals]
        for i, stage in enumerate(self.stages):
            sampled = stage.sample(boxes, targets)
            logits, deltas = stage(self.box_roi_pool(features, sampled["boxes"], image_shapes))
            losses[f"loss_classifier_s{i}"], losses[f"loss_box_reg_s{i}"] = stage.loss(
                logits, deltas, sampled["labels"], sampled["targets"])
            if i + 1 < len(self.stages):
                refined = stage.refine(deltas.detach(), sampled["boxes"], image_shapes)
                boxes = [b[~g] for b, g in zip(refined, sampled["is_gt"])]
        if self.has_mask:
            pos = [torch.where(lab > 0)[0] for lab in sampled["labels"]]
            pos_boxes = [b[p] for b, p in zip(sampled["boxes"], pos)]
            pos_matched = [m[p] for m, p in zip(sampled["matched"], pos)]
            logits = self._mask_logits(features, pos_boxes, image_shapes)
            loss = maskrcnn_loss(logits, pos_boxes, [t["masks"] for t in targets], [t["labels"] for t in targets],
                                 pos_matched)
            losses["loss_mask"] = self.mask_loss_weight * loss
        return losses

    @torch.no_grad()
    def _inference(self, features: dict[str, Tensor], proposals: list[Tensor],
                   image_shapes: list[tuple[int, int]]) -> list[dict[str, Tensor]]:
        boxes, scores = proposals, []
        for stage in self.stages:
            logits, deltas = stage(self.box_roi_pool(features, boxes, image_shapes))
            scores.append(F.softmax(logits, dim=-1))
            boxes = stage.refine(deltas, boxes, image_shapes)
        results = self._postprocess(boxes, torch.stack(scores).mean(dim=0))
        if self.has_mask:
            logits = self._mask_logits(features, [r["boxes"] for r in results], image_shapes)
            for r, probs in zip(results, maskrcnn_inference(logits, [r["labels"] for r in results])):
                r["masks"] = probs
        return results

    def _postprocess(self, boxes: list[Tensor], scores: Tensor) -> list[dict[str, Tensor]]:
        """Per-class score threshold over every image's shared (class-agnostic) boxes at once, then per
        image NMS and its top detections; ``scores``: the stage-averaged softmax of every box, (boxes, K + 1).

        NMS runs per image: torchvision's batched NMS does one kernel call for up to 20,000 (GPU)
        boxes and one per class above that, so a whole batch at once would be many calls.
        """
        image = torch.cat([torch.full_like(b[:, 0], i, dtype=torch.int64) for i, b in enumerate(boxes)])
        rows, classes = torch.nonzero(scores[:, 1:] > self.score_thresh).unbind(1)
        candidates = torch.cat(boxes)[rows], scores[rows, classes + 1], classes + 1, image[rows]
        keep = box_ops.remove_small_boxes(candidates[0], min_size=1e-2)
        flat_boxes, flat_scores, labels, image = (t[keep] for t in candidates)
        results = []
        for i in range(len(boxes)):
            mine = torch.nonzero(image == i).squeeze(1)
            top = mine[box_ops.batched_nms(flat_boxes[mine], flat_scores[mine], labels[mine], self.nms_thresh)]
            top = top[: self.detections_per_img]
            results.append({"boxes": flat_boxes[top], "scores": flat_scores[top], "labels": labels[top]})
        return results
