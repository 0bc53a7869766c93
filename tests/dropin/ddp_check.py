"""Run by tests/dropin/test_dropin.py under torchrun (2 processes, gloo): DDP with default arguments around models whose
only buffers are a layer's, trainable or not; both ranks must end with identical parameters and buffers."""

import sys

import torch
import torch.distributed as dist
from torch import nn

import nnaudio_fast as nf


def models():
    sr = 16000
    yield "mel", nf.MelSpectrogram(sr=sr, n_fft=256, hop_length=64, n_mels=16)
    yield "mel-trainable", nf.MelSpectrogram(sr=sr, n_fft=256, hop_length=64, n_mels=16, trainable_mel=True,
                                             trainable_STFT=True)
    yield "stft", nf.STFT(n_fft=256, hop_length=64, output_format="Magnitude")
    yield "cqt2010v2-trainable", nf.CQT2010v2(sr=sr, hop_length=128, fmin=100, n_bins=24, trainable=True)
    yield "chroma-stft-trainable", nf.ChromaSTFT(sr=sr, n_fft=256, hop_length=64, trainable_chroma=True)
    yield "chroma-cqt", nf.ChromaCQT(sr=sr, hop_length=128, fmin=100, n_octaves=2)
    yield "centroid-trainable", nf.SpectralCentroid(sr=sr, n_fft=256, hop_length=64, trainable_STFT=True)


def main():
    import faulthandler
    faulthandler.dump_traceback_later(150, exit=True)  # a hang prints where, then fails
    dist.init_process_group("gloo")
    rank = dist.get_rank()
    torch.manual_seed(1234 + rank)  # different data per rank
    for name, layer in models():
        with torch.no_grad():
            n_out = layer(torch.randn(1, 4000)).shape[1]
        model = nn.Sequential(layer, Pool(), nn.Linear(n_out, 1))
        ddp = nn.parallel.DistributedDataParallel(model)
        opt = torch.optim.SGD(ddp.parameters(), lr=1e-3)
        for _ in range(3):
            loss = ddp(torch.randn(2, 4000)).square().mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
        for key, t in list(model.state_dict().items()):
            gathered = [torch.empty_like(t) for _ in range(dist.get_world_size())]
            dist.all_gather(gathered, t.contiguous())
            if not all(torch.equal(g, gathered[0]) for g in gathered):
                print(f"DDP-MISMATCH {name} {key}", flush=True)
                sys.exit(1)
        if rank == 0:
            print(f"DDP-OK {name}", flush=True)
        del ddp, opt  # the reducer goes before the process group (destroying it after can hang in gloo)
    dist.barrier()
    dist.destroy_process_group()


class Pool(nn.Module):
    def forward(self, x):
        return x.mean(-1)


if __name__ == "__main__":
    main()
