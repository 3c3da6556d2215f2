"""The synthetic data generator: a realistic, seeded year of support tickets."""

from supportxl.generate.core import GENERATION_STEPS, generate
from supportxl.generate.params import GeneratorParams, load_params

__all__ = ["GENERATION_STEPS", "GeneratorParams", "generate", "load_params"]
