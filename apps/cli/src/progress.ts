import { Presets, SingleBar } from 'cli-progress';

/**
 * A progress bar on stderr for long work (training, encoding). It stays silent when stderr is not a terminal or
 * when the command prints JSON, so scripts and logs get clean output.
 */
export class ProgressBar {
  private readonly bar: SingleBar | undefined;
  private started = false;

  constructor(
    enabled: boolean,
    private readonly format = ' {label} |{bar}| {value}/{total} {detail}  {duration_formatted} (eta {eta_formatted})',
  ) {
    this.bar =
      enabled && process.stderr.isTTY
        ? new SingleBar(
            { stream: process.stderr, format: this.format, hideCursor: true },
            Presets.shades_classic,
          )
        : undefined;
  }

  update(label: string, value: number, total: number, detail = ''): void {
    if (!this.bar) return;
    if (!this.started) {
      this.bar.start(total, value, { label, detail });
      this.started = true;
    }
    this.bar.setTotal(total);
    this.bar.update(value, { label, detail });
  }

  stop(): void {
    if (this.started) this.bar?.stop();
    this.started = false;
  }
}
