"""What the user asked for: Hydra's composed config and overrides, read into plain values.

hydra_config (the composed config and the command line -> :class:`SweepRequest`),
overrides (the ``tag(...)`` grammar of grouped sweeps), launch_options (the
``launch.*`` fields, defined once), sweep_file (a sweep file's top-level fields) and
planning (a request -> a :class:`~launcher.core.plan.SweepPlan`, every key and value
checked against robomimic). After this package nothing reads Hydra's config.
"""
