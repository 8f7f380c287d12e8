"""Text towers: text in, a vector in the image model's space out, for SearchImageByText.

A text query only makes sense with a joint image-text model (CLIP and its kin), whose text tower maps words
into the same space as its image tower maps pictures. The packaged EfficientNet-Lite0 is an image-only model,
so by default there is no text tower and `Vision.embed_text` refuses with UnsupportedOperationType.

`OnnxTextTower` loads a user's ONNX text tower with this contract:
- one input of type tensor(string), shape [N]: the texts (tokenisation happens inside the graph, as
  onnxruntime-extensions' tokenizer operators do; their library is registered when that package is installed);
- its first output, float [N, D]: the text embeddings (L2-normalised here).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

import numpy as np
import onnxruntime as ort

TEXT_INPUT_TYPE = "tensor(string)"


class TextTower(Protocol):
    dim: int

    def embed_text(self, texts: Sequence[str]) -> np.ndarray:
        """(n, dim) float32, rows L2-normalised."""
        ...


class OnnxTextTower:
    def __init__(self, model_path: Path, *, threads: int | None = None):
        options = ort.SessionOptions()
        if threads:
            options.intra_op_num_threads = threads
        _register_tokenizer_ops(options)
        self.session = ort.InferenceSession(
            str(model_path), sess_options=options, providers=["CPUExecutionProvider"]
        )
        inputs, outputs = self.session.get_inputs(), self.session.get_outputs()
        if len(inputs) != 1 or inputs[0].type != TEXT_INPUT_TYPE:
            found = ", ".join(f"{i.name}: {i.type}" for i in inputs)
            raise ValueError(
                f"{model_path} is not a text tower: it must take one {TEXT_INPUT_TYPE} input "
                f"(the texts), but takes {found}"
            )
        dim = outputs[0].shape[-1] if outputs and len(outputs[0].shape) == 2 else None
        if not isinstance(dim, int):
            raise ValueError(f"{model_path} is not a text tower: its first output must be [N, D] embeddings")
        self.input_name, self.output_name, self.dim = inputs[0].name, outputs[0].name, dim

    def embed_text(self, texts: Sequence[str]) -> np.ndarray:
        (vectors,) = self.session.run(
            [self.output_name], {self.input_name: np.array(list(texts), dtype=object)}
        )
        vectors = np.asarray(vectors, dtype=np.float32)
        return vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)


def _register_tokenizer_ops(options: ort.SessionOptions) -> None:
    try:
        from onnxruntime_extensions import get_library_path
    except ImportError:
        return  # a graph without custom tokenizer operators needs none
    options.register_custom_ops_library(get_library_path())
