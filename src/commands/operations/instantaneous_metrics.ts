/**
 * INFO's instantaneous rates (`instantaneous_ops_per_sec`, `_input_kbps`,
 * `_output_kbps`): Redis's trackInstantaneousMetric, a moving average of
 * the last 16 samples taken every 100 ms by the server cron.
 *
 * Each sample is the counter's growth since the previous sample scaled to
 * one second; INFO prints the mean of the 16 (ops as an integer, bytes as
 * KB/s with two decimals). Until 16 samples exist the empty slots count as
 * zero, as in Redis, so the figure ramps up over the first 1.6 s.
 *
 * @module
 */

const SAMPLES = 16;
/** Redis samples in serverCron with run_with_period(100). */
const PERIOD_MS = 100;

/** One metric's ring of per-second rates. */
class Metric {
  readonly #samples = new Float64Array(SAMPLES);
  #index = 0;
  #lastTime = 0;
  #lastValue = 0;

  sample(now: number, value: number): void {
    if (this.#lastTime !== 0) {
      const elapsed = now - this.#lastTime;
      const rate = elapsed > 0 ? (value - this.#lastValue) * 1000 / elapsed : 0;
      this.#samples[this.#index] = Math.max(rate, 0);
      this.#index = (this.#index + 1) % SAMPLES;
    }
    this.#lastTime = now;
    this.#lastValue = value;
  }

  /** Redis's getInstantaneousMetric: the mean of the samples. */
  get value(): number {
    let sum = 0;
    for (const sample of this.#samples) sum += sample;
    return sum / SAMPLES;
  }

  reset(): void {
    this.#samples.fill(0);
    this.#index = 0;
    this.#lastTime = 0;
  }
}

export class InstantaneousMetrics {
  readonly commands = new Metric();
  readonly netInput = new Metric();
  readonly netOutput = new Metric();
  #lastSample = 0;

  /** From the server cron: samples the counters when 100 ms have passed. */
  sample(now: number, commands: number, netInput: number, netOutput: number): void {
    if (now - this.#lastSample < PERIOD_MS * 0.9) return;
    this.#lastSample = now;
    this.commands.sample(now, commands);
    this.netInput.sample(now, netInput);
    this.netOutput.sample(now, netOutput);
  }

  /** `instantaneous_ops_per_sec`. */
  get opsPerSecond(): number {
    return Math.trunc(this.commands.value);
  }

  /** `instantaneous_input_kbps`, formatted. */
  get inputKbps(): string {
    return (this.netInput.value / 1024).toFixed(2);
  }

  /** `instantaneous_output_kbps`, formatted. */
  get outputKbps(): string {
    return (this.netOutput.value / 1024).toFixed(2);
  }

  reset(): void {
    this.commands.reset();
    this.netInput.reset();
    this.netOutput.reset();
    this.#lastSample = 0;
  }
}
