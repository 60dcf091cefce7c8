"""PyTorch CPU reference of one MAI training step at the fixed shape of ARCHITECTURE.md, mirroring
packages/models-mai (AggregationLayer: pre-norm self-attention over [queries; text], cross-attention from the
queries to the image patches, FFN x4; MSA over [memory; text]; MIO keeping 16 of 32 tokens by DPC-kNN, k = 5;
the four CCL terms per turn; AdamW). Run: python3 benchmarks/reference/mai_step_torch.py [threads]
Prints {"medianMs": ..., "threads": ...}. Used to compare `cir bench mai-step` on the same machine."""
import json, math, statistics, sys, time
import torch
import torch.nn as nn
import torch.nn.functional as F

threads = int(sys.argv[1]) if len(sys.argv) > 1 else 2
torch.set_num_threads(threads)
torch.manual_seed(1)
B, T, D, H, Q, CAP, TXT, P = 32, 3, 128, 4, 16, 16, 24, 17


class Layer(nn.Module):
    def __init__(self, cross):
        super().__init__()
        self.n1 = nn.LayerNorm(D)
        self.sa = nn.MultiheadAttention(D, H, batch_first=True)
        self.cross = cross
        if cross:
            self.n2 = nn.LayerNorm(D)
            self.ca = nn.MultiheadAttention(D, H, batch_first=True)
        self.n3 = nn.LayerNorm(D)
        self.ff = nn.Sequential(nn.Linear(D, 4 * D), nn.GELU(), nn.Linear(4 * D, D))

    def forward(self, q, text=None, mask=None, image=None):
        n = q.shape[1]
        s = q if text is None else torch.cat([q, text], 1)
        pad = None if mask is None else torch.cat([torch.zeros(q.shape[0], n, dtype=torch.bool), ~mask], 1)
        h = self.n1(s)
        s = s + self.sa(h, h, h, key_padding_mask=pad, need_weights=False)[0]
        if self.cross and image is not None:
            qp = s[:, :n]
            hq = self.n2(qp)
            qp = qp + self.ca(hq, image, image, need_weights=False)[0]
            s = torch.cat([qp, s[:, n:]], 1)
        s = s + self.ff(self.n3(s))
        return s[:, :n], (s[:, n:] if text is not None else None)


class Stack(nn.Module):
    def __init__(self, cross):
        super().__init__()
        self.layers = nn.ModuleList([Layer(cross) for _ in range(2)])
        self.norm = nn.LayerNorm(D)

    def forward(self, q, text=None, mask=None, image=None):
        for layer in self.layers:
            q, text = layer(q, text, mask, image)
        return self.norm(q), (None if text is None else self.norm(text))


class Mai(nn.Module):
    def __init__(self):
        super().__init__()
        self.queries = nn.Parameter(torch.randn(Q, D) * 0.02)
        self.prompts = nn.Parameter(torch.randn(Q, D) * 0.02)
        self.image_in, self.text_in = nn.Linear(D, D), nn.Linear(D, D)
        self.image_norm, self.text_norm = nn.LayerNorm(D), nn.LayerNorm(D)
        self.bsa, self.msa = Stack(True), Stack(False)
        self.qproj, self.tproj = nn.Linear(D, D), nn.Linear(D, D)

    def bsa_tokens(self, image, caption, mask):
        q, text = self.bsa(self.queries.expand(image.shape[0], -1, -1),
                           self.text_norm(self.text_in(caption)), mask, self.image_norm(self.image_in(image)))
        return q, text

    def compose(self, memory, text, mask):
        q, t = self.msa(memory, self.text_norm(self.text_in(text)), mask)
        return F.normalize(self.qproj(t[:, 0]), dim=-1)

    def text_embedding(self, text, mask):
        q, t = self.msa(self.prompts.expand(text.shape[0], -1, -1), self.text_norm(self.text_in(text)), mask)
        return F.normalize(self.qproj(t[:, 0]), dim=-1)


def dpc_knn_select(tokens, keep, k=5):
    """DPC-kNN on detached tokens: indices [B, keep] by density x distance, as @cir/mio's selectTokens."""
    with torch.no_grad():
        x = tokens.double()
        dist = torch.cdist(x, x) / math.sqrt(x.shape[-1])
        knn = dist.topk(k, dim=-1, largest=False).values
        density = torch.exp(-(knn ** 2).mean(-1))
        higher = density[:, None, :] > density[:, :, None]
        delta = torch.where(higher, dist, torch.full_like(dist, float('inf'))).min(-1).values
        maxd = dist.flatten(1).max(-1).values[:, None].expand_as(delta)
        delta = torch.where(torch.isinf(delta), maxd, delta)
        return (density * delta).topk(keep, dim=-1).indices


def info_nce(a, b, scale=100.0):
    logits = scale * a @ b.t()
    return F.cross_entropy(logits, torch.arange(a.shape[0]))


model = Mai()
opt = torch.optim.AdamW(model.parameters(), lr=1e-4)
images = torch.randn(B * (T + 1), P, D)
captions = torch.randn(B * (T + 1), CAP, D)
cap_mask = torch.ones(B * (T + 1), CAP, dtype=torch.bool)
texts = torch.randn(B * T, TXT, D)
txt_mask = torch.ones(B * T, TXT, dtype=torch.bool)


def step():
    opt.zero_grad()
    tokens, cap_states = model.bsa_tokens(images, captions, cap_mask)
    targets = F.normalize(model.tproj(cap_states[:, 0]), dim=-1)
    tokens = tokens.view(B, T + 1, Q, D)
    targets = targets.view(B, T + 1, D)
    memory = None
    loss = 0.0
    text_emb = model.text_embedding(texts, txt_mask).view(B, T, D)
    cap_emb = model.text_embedding(captions.view(B, T + 1, CAP, D)[:, 1:].reshape(B * T, CAP, D),
                                   cap_mask.view(B, T + 1, CAP)[:, 1:].reshape(B * T, CAP)).view(B, T, D)
    for t in range(T):
        current = tokens[:, t]
        if memory is None:
            memory = current
        else:
            both = torch.cat([memory, current], 1)
            index = dpc_knn_select(both, Q)
            memory = torch.gather(both, 1, index[..., None].expand(-1, -1, D))
        fused = model.compose(memory, texts.view(B, T, TXT, D)[:, t], txt_mask.view(B, T, TXT)[:, t])
        target = targets[:, t + 1]
        m, c = text_emb[:, t], cap_emb[:, t]
        loss = loss + info_nce(fused, target) + info_nce(target, m) + info_nce(m, c) + info_nce(c, fused)
    loss.backward()
    opt.step()
    return loss.item()


step()
times = []
for _ in range(5):
    started = time.perf_counter()
    step()
    times.append((time.perf_counter() - started) * 1000)
print(json.dumps({"name": "mai-step-torch", "torch": torch.__version__, "threads": threads,
                  "medianMs": statistics.median(times)}))
