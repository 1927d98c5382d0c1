"""Neural building blocks shared by the codecs."""
from .gdn import GDN
from .lower_bound import LowerBound, lower_bound

__all__ = ["GDN", "LowerBound", "lower_bound"]
from .convolutions import conv, deconv, gdn_analysis, gdn_synthesis

__all__ += ["conv", "deconv", "gdn_analysis", "gdn_synthesis"]
