"""Local stand-ins for the template's event source mappings: Kafka consumer groups and a DynamoDB Streams poller.

What a function sees, and what happens when it fails, is decided by Lambda's pollers: batch size
and window, filter criteria, partial batch responses, bounded retries, bisection and the on-failure
destination. They are reproduced here from template.yaml, so that a local run batches, filters,
retries and gives up the way the deployed stack does, instead of calling a handler per record.

``mappings`` reads the mappings of the template, ``filters`` is Lambda's event filtering,
``batching`` hands a batch to a function (record formats, partial batch responses, retries,
bisection, dead letters), ``poller`` is the background thread both kinds of poller share, and
``kafka_poller`` and ``stream_poller`` are the two kinds.
"""
