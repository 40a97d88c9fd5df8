"""View models: the kiosk's screen logic, with Qt signals but no widgets (never import QtWidgets here).

Each wraps the pure domain (``kiosk.domain``) and the storage interface; the views in ``kiosk.ui`` only render
what a view model publishes and forward touches to it. Storage calls always go through
:class:`kiosk.tasks.TaskManager`, never on the GUI thread.
"""
