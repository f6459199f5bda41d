"""Evaluators of the condition IR: ``python`` (the reference) and ``durable`` (optional)."""
