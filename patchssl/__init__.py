"""Masked-autoencoder self-supervised learning for time series and remote sensing, on fastai

Modules:

- `patchssl.evaluate`: Measuring any model the same way: predictions in batches, accuracy, parameters, time and FLOPs per step, linear probes on frozen features, and one runner that turns rows of a comparison and their seeds into a table of means and standard deviations.
- `patchssl.geodata`: EuroSAT-MS patches, a GK-2A-like station/satellite pipeline that cuts patch chunks (resumable, any executor), a fast chunk loader, synthetic catchments (rainfall image, streamflow series, attributes) and image crops from scikit-image.
- `patchssl.tda`: Three real wearable-sensor classification sets (two UEA sets and a sensor-placement task cut from Daphnet), and their topological features: sublevel-set persistence diagrams of each channel, drawn as persistence images."""

__version__ = "0.2.0"

# fastai's own modules call `torch.jit.script`, which torch >= 2.10 marks deprecated with a FutureWarning on import.
# Nothing a patchssl user can act on: silence exactly that message (other warnings are untouched).
import warnings as _warnings
_warnings.filterwarnings('ignore', message=r'`torch\.jit\.script` is deprecated', category=FutureWarning)
