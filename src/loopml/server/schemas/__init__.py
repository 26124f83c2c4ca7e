"""Request and response bodies of the REST API, one module per resource.

``XCreate`` and ``XUpdate`` are what clients send, ``XRead`` what the server answers.
They are the wire format only: routes turn them into domain objects and back.
"""
