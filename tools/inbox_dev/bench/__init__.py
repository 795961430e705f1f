"""`make bench`: every measurement next to the floor it is compared with, in the same run.

Absolute times on a shared machine drift, so each figure is measured side by side with its
reference (the floor DynamoDB or Python sets) and repeated; the ratios are what to compare.
"""
