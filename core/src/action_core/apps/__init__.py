"""Applications of the :class:`~action_core.engine.inferencer.Inferencer`: batch prediction over many files
(:mod:`~action_core.apps.batch`), labels over time in a long video (:mod:`~action_core.apps.timeline`) and
labels on a live stream (:mod:`~action_core.apps.live`). Each predicts through the Inferencer only."""
