// Frozen image/text encoders: ONNX (CLIP/SigLIP/BLIP exports) and the built-in mini encoder.
// This package exports nothing yet: its issue has not landed.
export {};
