"""Test suites shipped with loopml, run against every implementation of an interface.

Subclass a contract and provide its fixture, e.g. for a metadata store::

    class TestMyStore(MetadataStoreContract):
        @pytest.fixture
        def store(self, tmp_path):
            with MyStore(tmp_path) as store:
                yield store
"""

from __future__ import annotations

from loopml.testing.auth_contract import AuthStoreContract
from loopml.testing.metadata_contract import MetadataStoreContract

__all__ = ["AuthStoreContract", "MetadataStoreContract"]
