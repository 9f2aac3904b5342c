"""The cost model of `bench/cost_model.py`: the written-down prices and assumptions
(`assumptions.py`), the measured figures read from `bench/results/` (`figures.py`), and the
monthly cost lines computed from both (`lines.py`). Pure arithmetic, no AWS call."""
