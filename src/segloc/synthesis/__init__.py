"""SegLoc pair synthesis (paper section 3): authentic regions, segment and background banks,
segment transforms, pasting, the SegLoc and InsLoc pair samplers, torch Datasets and offline shards.
"""
