"""A view model's state read afresh, for an assertion after the action that changed it.

mypy keeps the type that an ``assert`` narrowed an attribute to across the method calls that change that
attribute (python/mypy#19783): after ``assert vm.screen.kind is ScreenKind.CHECK`` and a click, it takes a
second ``assert vm.screen.kind is ScreenKind.INTRODUCTION`` for always false, and the rest of the test for
unreachable, which it then leaves unchecked. A function call is never narrowed: these read the same attribute
through one.
"""

from __future__ import annotations

from kiosk.viewmodels.nurse_flow import NurseFlowViewModel, Page
from kiosk.viewmodels.screens import ScreenKind
from kiosk.viewmodels.session_vm import SessionViewModel


def screen_kind(vm: SessionViewModel) -> ScreenKind:
    """``vm.screen.kind``."""
    return vm.screen.kind


def page(flow: NurseFlowViewModel) -> Page:
    """``flow.page``."""
    return flow.page


def return_to(flow: NurseFlowViewModel) -> Page | None:
    """``flow.return_to``."""
    return flow.return_to
