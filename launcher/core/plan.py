"""A whole sweep, ready to expand: base document, params and how runs are named.

Pure: built from plain values, so it can be tested without Hydra.
"""
from dataclasses import dataclass
from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple

from launcher.core.document import build_run_config
from launcher.core.keys import get_value, split_key
from launcher.core.params import Choice, Param, expand_groups, join_name, name_fragments


@dataclass(frozen=True)
class SweepPlan:
    """Everything needed to produce any run's name and JSON document."""

    base: Dict[str, Any]
    base_name: str
    params: Sequence[Param]
    base_config_file: Optional[str]
    wandb_proj_name: str

    def runs(self) -> Iterator[Tuple[str, Choice]]:
        """(run name, value indices) for every run, in robomimic's order."""
        fragments = name_fragments(self.params)
        for choice in expand_groups(self.params):
            yield join_name(self.base_name, fragments, choice), choice

    def run_config(self, name: str, choice: Choice) -> Dict[str, Any]:
        return build_run_config(
            self.base,
            self.params,
            choice,
            name,
            self.base_config_file,
            self.wandb_proj_name,
        )

    def assignments(self, choice: Choice) -> List[Tuple[str, Any]]:
        """(key, value) of each param for one run, in sweep order."""
        return [(p.key, p.values[i]) for p, i in zip(self.params, choice)]

    def value(self, choice: Choice, key: str) -> Any:
        """The value at ``key`` in one run's config, without building the whole config
        unless a swept key overlaps it."""
        parts = split_key(key)
        for param, index in zip(self.params, choice):
            swept = split_key(param.key)
            if swept == parts:
                return param.values[index]
            n = min(len(swept), len(parts))
            if swept[:n] == parts[:n]:
                return get_value(self.run_config("", choice), key)
        return get_value(self.base, key)
