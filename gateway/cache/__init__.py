"""Cache tiers: per process (bounded) and shared Redis, sealed so Redis holds no personal
data in clear text, with per-subject generations for exact invalidation."""

from gateway.cache.local import LocalTier
from gateway.cache.sealing import Sealer
from gateway.cache.shared import RedisTier
from gateway.cache.tiers import Cache

__all__ = ["Cache", "LocalTier", "RedisTier", "Sealer"]
