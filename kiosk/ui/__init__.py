"""The kiosk's Qt widgets: the only code that imports QtWidgets; thin views over kiosk.viewmodels."""
