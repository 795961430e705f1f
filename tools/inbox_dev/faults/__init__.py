"""Faults the local stack can inject while it runs (`INBOX_LOCAL_FAULTS`), and the counts of those it injected.

``settings``: which faults, at what rates; ``answers``: AWS error answers a botocore hook can give
instead of the service; ``dynamodb``: throttling inside the function workers; ``management_api``:
500s from the local gateway's Management API; ``tally``: counts that outlive the processes.
None of it is part of the deployed package: the worker installs its hook before loading the handler.
"""
