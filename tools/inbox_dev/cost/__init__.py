"""The monthly AWS bill of a usage, from measured capacity units and handler durations and list prices.

`make cost` (`python -m inbox_dev cost`; `ARGS=--json` for the figures as JSON):

* model: what the users do (Usage), what nobody measured (Assumptions, each named and printed),
  how it is deployed (Deployment: billing mode, replicas, days kept per type, memory sizes), and
  the bill those make line by line: a pure function of its inputs.
* inputs: capacity units (inbox_dev.capacity) and handler durations (inbox_dev.bench.durations)
  from the last `make bench`, or measured now; the items' sizes as DynamoDB counts them.
* memory: each function's memory size chosen from its measured CPU and waiting time.
* report, chart: the text, the JSON, the seed's estimate beside this one, the levers, the PNG.
"""
