__version__ = "0.2.0"

# fastai's own modules call `torch.jit.script`, which torch >= 2.10 marks deprecated with a FutureWarning on import.
# Nothing a patchssl user can act on: silence exactly that message (other warnings are untouched).
import warnings as _warnings
_warnings.filterwarnings('ignore', message=r'`torch\.jit\.script` is deprecated', category=FutureWarning)
