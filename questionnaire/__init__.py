"""The questionnaire vocabulary every stage speaks: the definition schema, the expression
language and the logic that checks and orders it. Pure Python: no Flask, no database."""
