"""PyTorch reference for `cir bench mai-step`: one MAI training step at the fixed shape of ARCHITECTURE.md.

B=32 sessions, 3 turns, d=128, 4 heads, 16 learned queries, 16 caption tokens, 24 modification-text tokens,
17 image patch tokens; BSA 2 layers (self-attention over [queries; caption], cross-attention from the queries to
the patches, FFN x4), MSA 2 layers (self-attention over [memory; text], FFN x4), MIO keeping 16 of 32 tokens by
DPC-kNN (k=5), the Cyclic Combination Loss (4 terms per turn, modification text and target caption through the
MSA with prompt tokens), AdamW. The same computation as @cir/models-mai's benchmark (session-forward.ts), written
the usual PyTorch way (every layer computes every token), to time ours against on the same machine:

    python3 -m venv /tmp/torch && /tmp/torch/bin/pip install torch   # offline: pip install <a local torch wheel>
    /tmp/torch/bin/python benchmarks/reference/mai_step.py --threads 2 --repeats 8

Prints {"medianMs": ...} like `cir bench mai-step --json`.
"""

import argparse
import json
import math
import statistics
import time

import torch
import torch.nn.functional as F
from torch import nn

B, TURNS, D, HEADS, QUERIES, CAPTION, TEXT, PATCHES, KEEP, K = 32, 3, 128, 4, 16, 16, 24, 17, 16, 5
LOGIT_SCALE = 100.0


class Layer(nn.Module):
    """Pre-norm Q-Former layer: self-attention over [queries; text], cross-attention queries -> image, FFN."""

    def __init__(self, cross: bool):
        super().__init__()
        self.self_norm = nn.LayerNorm(D)
        self.self_attention = nn.MultiheadAttention(D, HEADS, batch_first=True)
        self.cross_norm = nn.LayerNorm(D) if cross else None
        self.cross_attention = nn.MultiheadAttention(D, HEADS, batch_first=True) if cross else None
        self.ff_norm = nn.LayerNorm(D)
        self.ff = nn.Sequential(nn.Linear(D, 4 * D), nn.GELU(), nn.Linear(4 * D, D))

    def forward(self, queries, text, padding, image=None):
        count = queries.shape[1]
        x = torch.cat([queries, text], 1)
        keys = torch.cat([torch.zeros(queries.shape[:2], dtype=torch.bool), padding], 1)  # True = padding
        normed = self.self_norm(x)
        x = x + self.self_attention(normed, normed, normed, key_padding_mask=keys, need_weights=False)[0]
        if image is not None and self.cross_attention is not None:
            q = x[:, :count]
            normed_q = self.cross_norm(q)
            q = q + self.cross_attention(normed_q, image, image, need_weights=False)[0]
            x = torch.cat([q, x[:, count:]], 1)
        x = x + self.ff(self.ff_norm(x))
        return x[:, :count], x[:, count:]


class Stack(nn.Module):
    def __init__(self, cross: bool):
        super().__init__()
        self.layers = nn.ModuleList([Layer(cross) for _ in range(2)])
        self.norm = nn.LayerNorm(D)

    def forward(self, queries, text, padding, image=None):
        for layer in self.layers:
            queries, text = layer(queries, text, padding, image)
        return self.norm(queries), self.norm(text)


class Mai(nn.Module):
    def __init__(self):
        super().__init__()
        self.query_tokens = nn.Parameter(torch.randn(QUERIES, D) * 0.02)
        self.prompt_tokens = nn.Parameter(torch.randn(QUERIES, D) * 0.02)
        self.image_input, self.image_norm = nn.Linear(D, D), nn.LayerNorm(D)
        self.text_input, self.text_norm = nn.Linear(D, D), nn.LayerNorm(D)
        self.bsa, self.msa = Stack(True), Stack(False)
        self.query_projection, self.target_projection = nn.Linear(D, D), nn.Linear(D, D)

    def text(self, tokens):
        return self.text_norm(self.text_input(tokens))

    def text_embedding(self, tokens, padding):
        prompts = self.prompt_tokens.expand(tokens.shape[0], -1, -1)
        _, text = self.msa(prompts, self.text(tokens), padding)
        return F.normalize(self.query_projection(text[:, 0]), dim=-1)


def dpc_knn(tokens, keep, k):
    """DPC-kNN token selection: density x distance to denser tokens, the `keep` highest per batch element."""
    with torch.no_grad():
        distances = torch.cdist(tokens, tokens) / math.sqrt(tokens.shape[-1])
        nearest = distances.topk(k, dim=-1, largest=False).values
        density = torch.exp(-(nearest**2).mean(-1))
        denser = density[:, None, :] > density[:, :, None]
        largest = distances.flatten(1).max(-1).values[:, None, None]
        delta = torch.where(denser, distances, largest).min(-1).values
        return (density * delta).topk(keep, dim=-1).indices


def loss_fn(model, data):
    images, captions, caption_padding, texts, text_padding = data
    count = images.shape[0]  # B * (TURNS + 1): each session's turn images and final target
    queries = model.query_tokens.expand(count, -1, -1)
    tokens, caption_states = model.bsa(
        queries, model.text(captions), caption_padding, model.image_norm(model.image_input(images))
    )
    targets = F.normalize(model.target_projection(caption_states[:, 0]), dim=-1).view(B, TURNS + 1, D)
    tokens = tokens.view(B, TURNS + 1, QUERIES, D)
    texts = texts.view(B, TURNS, TEXT, D)
    text_padding = text_padding.view(B, TURNS, TEXT)
    modification = model.text_embedding(texts.transpose(0, 1).reshape(-1, TEXT, D), text_padding.transpose(0, 1).reshape(-1, TEXT))
    target_captions = captions.view(B, TURNS + 1, CAPTION, D)[:, 1:].transpose(0, 1).reshape(-1, CAPTION, D)
    target_padding = caption_padding.view(B, TURNS + 1, CAPTION)[:, 1:].transpose(0, 1).reshape(-1, CAPTION)
    caption_embeddings = model.text_embedding(target_captions, target_padding)
    memory, total = None, 0.0
    eye = torch.arange(B)
    for turn in range(TURNS):
        current = tokens[:, turn]
        if memory is None:
            memory = current
        else:
            combined = torch.cat([memory, current], 1)
            kept = dpc_knn(combined, KEEP, K)
            memory = torch.gather(combined, 1, kept[..., None].expand(-1, -1, D))
        _, text_states = model.msa(memory, model.text(texts[:, turn]), text_padding[:, turn])
        fused = F.normalize(model.query_projection(text_states[:, 0]), dim=-1)
        target = targets[:, turn + 1]
        m = modification[turn * B : (turn + 1) * B]
        c = caption_embeddings[turn * B : (turn + 1) * B]
        for a, b in ((fused, target), (target, m), (m, c), (c, fused)):
            total = total + F.cross_entropy(LOGIT_SCALE * a @ b.T, eye)
    return total


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(2)
    model = Mai()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4)
    images_count = B * (TURNS + 1)
    data = (
        torch.randn(images_count, PATCHES, D),
        torch.randn(images_count, CAPTION, D),
        torch.zeros(images_count, CAPTION, dtype=torch.bool),  # key_padding_mask: True = padding; none here
        torch.randn(B * TURNS, TEXT, D),
        torch.zeros(B * TURNS, TEXT, dtype=torch.bool),
    )

    def step():
        optimizer.zero_grad(set_to_none=True)
        loss = loss_fn(model, data)
        loss.backward()
        optimizer.step()

    step()
    times = []
    for _ in range(args.repeats):
        started = time.perf_counter()
        step()
        times.append((time.perf_counter() - started) * 1000)
    print(json.dumps({"name": "mai-step-pytorch", "threads": args.threads, "medianMs": statistics.median(times), "timesMs": times}))


if __name__ == "__main__":
    main()
