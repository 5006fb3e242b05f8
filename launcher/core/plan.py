"""A whole sweep, ready to expand: base document, params and how runs are named.

Pure: built from plain values, so it can be tested without Hydra.
"""
from dataclasses import dataclass
from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple

from launcher.core.document import build_run_config
from launcher.core.keys import get_value, split_key
from launcher.core.params import Choice, Exclusion, Param, count_runs, expand_groups, join_name, name_fragments


@dataclass(frozen=True)
class SweepPlan:
    """Everything needed to produce any run's name and JSON document."""

    base: Dict[str, Any]
    base_name: str
    params: Sequence[Param]
    base_config_file: Optional[str]
    # Written to experiment.logging.wandb_proj_name; None leaves the base's value (master).
    wandb_proj_name: Optional[str]
    # robomimic 0.3.0 puts "_" after the base name even when it is empty ("_bs_16");
    # master only between non-empty parts ("bs_16"): leading_separator=False.
    leading_separator: bool = True
    # Runs matching one of these are dropped before they are named.
    exclude: Sequence[Exclusion] = ()

    def choices(self) -> Iterator[Choice]:
        """Every kept run's value indices, in robomimic's order."""
        choices = expand_groups(self.params)
        if not self.exclude:
            return choices
        return (c for c in choices if not any(e.drops(c) for e in self.exclude))

    def runs(self) -> Iterator[Tuple[str, Choice]]:
        """(run name, value indices) for every kept run, in robomimic's order."""
        fragments = name_fragments(self.params)
        for choice in self.choices():
            yield join_name(self.base_name, fragments, choice, self.leading_separator), choice

    def count_runs(self) -> Tuple[int, int]:
        """(kept runs, runs of the whole grid): their difference is what ``exclude`` dropped."""
        total = count_runs(self.params)
        kept = sum(1 for _ in self.choices()) if self.exclude else total
        return kept, total

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

    def value(self, choice: Choice, key: str, default: Any = None) -> Any:
        """The value at ``key`` in one run's config (``default`` where it has none), without
        building the whole config unless a swept key overlaps it."""
        parts = split_key(key)
        for param, index in zip(self.params, choice):
            swept = split_key(param.key)
            if swept == parts:
                return param.values[index]
            if _overlap(swept, parts):
                return get_value(self.run_config("", choice), key, default)
        return get_value(self.base, key, default)

    def varies(self, key: str) -> bool:
        """Whether a param sets ``key``, a section holding it, or a key inside it."""
        parts = split_key(key)
        return any(_overlap(split_key(param.key), parts) for param in self.params)


def _overlap(a: List[str], b: List[str]) -> bool:
    """One key path is the other or lies inside it."""
    n = min(len(a), len(b))
    return a[:n] == b[:n]
