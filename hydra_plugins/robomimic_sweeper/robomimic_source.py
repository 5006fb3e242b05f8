"""``robomimic://``: Hydra's config group ``algo``, served from the selected robomimic's schema.

Why: every robomimic (0.3.0, 0.5.0, master, the robocasa and dexmimicgen branches, a
fork) has its own algorithms and defaults, and conf/ must compose the one that
trains: ``algo=diffusion_policy`` under 0.5, ``algo=act`` under robocasa. Files per
algorithm per robomimic would be hundreds of kilobytes of copies, and registering
every algorithm in the ConfigStore costs every start (120 ms measured), so this
source builds ``algo/<name>`` (package ``_global_``: robomimic's whole config for
that algorithm) only when Hydra loads it. conf/config.yaml puts it on the search
path (``hydra.searchpath: [robomimic://]``).

Which robomimic: launcher/run.py reads ``launch.robomimic`` and ``launch.python`` from
the command line before Hydra composes (:func:`launcher.robomimic.selection.compose_with`);
without that, ``auto``. Hydra imports this module to discover plugins, so it
imports only Hydra's plugin base here and the launcher when a config is asked for.
"""
from typing import List, Optional

from hydra.core.object_type import ObjectType
from hydra.plugins.config_source import ConfigResult, ConfigSource

GROUP = "algo"


def _algorithms() -> List[str]:
    from launcher.robomimic.selection import composition

    return composition().algorithms()


def _split(config_path: str) -> List[str]:
    path = config_path.strip("/")
    if path.endswith(".yaml"):
        path = path[: -len(".yaml")]
    return path.split("/") if path else []


class RobomimicConfigSource(ConfigSource):
    @staticmethod
    def scheme() -> str:
        return "robomimic"

    def available(self) -> bool:
        return True

    def is_group(self, config_path: str) -> bool:
        return _split(config_path) in ([], [GROUP])  # the root, and algo

    def is_config(self, config_path: str) -> bool:
        parts = _split(config_path)
        return len(parts) == 2 and parts[0] == GROUP and parts[1] in _algorithms()

    def list(self, config_path: str, results_filter: Optional[ObjectType]) -> List[str]:
        parts = _split(config_path)
        if not parts and results_filter in (None, ObjectType.GROUP):
            return [GROUP]
        if parts == [GROUP] and results_filter in (None, ObjectType.CONFIG):
            return sorted(_algorithms())
        return []

    def load_config(self, config_path: str) -> ConfigResult:
        from omegaconf import OmegaConf

        from launcher.robomimic.selection import composition

        parts = _split(config_path)
        return ConfigResult(
            provider="robomimic-hydra-sweeper",
            path=f"{self.scheme()}://{self.path}",
            config=OmegaConf.create(composition().defaults(parts[1])),
            header={"package": "_global_"},
        )
