"""The modelops training image: trains the fraud MLP, exports ONNX and the reference distribution."""
