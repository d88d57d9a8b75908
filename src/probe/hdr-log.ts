// `--hdr-out FILE`: the run as an HdrHistogram interval log (format 1.3), one line per
// measured second, readable by HdrHistogram's HistogramLogProcessor, HdrHistogramVisualizer
// and hdr-plot. Values are microseconds; the interval max column is in milliseconds.
import {open, type FileHandle} from 'node:fs/promises'
import type {Histogram} from 'hdr-histogram-js'
import {UsageError} from '../errors.js'
import type {HdrModule} from './latency.js'

export class HdrLog {
  private readonly lines: string[] = []
  private writer: InstanceType<HdrModule['HistogramLogWriter']> | undefined
  private startEpochMs = 0
  private closed = false

  private constructor(
    private readonly file: FileHandle,
    private readonly path: string,
    private readonly hdr: HdrModule,
  ) {}

  /** Opened before the run so a bad path fails before any load is sent. */
  static async open(path: string, hdr: HdrModule): Promise<HdrLog> {
    try {
      return new HdrLog(await open(path, 'w'), path, hdr)
    } catch (error) {
      throw new UsageError(`cannot write --hdr-out ${path}: ${(error as Error).message}`)
    }
  }

  private header(startEpochMs: number): void {
    this.startEpochMs = startEpochMs
    this.writer = new this.hdr.HistogramLogWriter((line: string) => void this.lines.push(line))
    this.writer.outputLogFormatVersion()
    this.writer.outputComment('bfly probe: latency from each request\'s intended start, in microseconds')
    this.writer.outputComment(`[StartTime: ${(startEpochMs / 1000).toFixed(3)} (seconds since epoch), ${new Date(startEpochMs).toISOString()}]`)
    this.writer.outputLegend()
  }

  /** One measured interval; encoded at once because the engine resets the histogram next. */
  readonly interval = (histogram: Histogram, startEpochMs: number, endEpochMs: number): void => {
    if (this.writer === undefined) this.header(startEpochMs)
    this.writer!.outputIntervalHistogram(histogram, (startEpochMs - this.startEpochMs) / 1000, (endEpochMs - this.startEpochMs) / 1000, 1000)
  }

  /** `nowEpochMs` stamps the header of a log that saw no measured interval. */
  async close(nowEpochMs: number): Promise<void> {
    if (this.closed) return
    this.closed = true
    if (this.writer === undefined) this.header(nowEpochMs)
    try {
      await this.file.writeFile(this.lines.join(''))
    } catch (error) {
      throw new UsageError(`cannot write --hdr-out ${this.path}: ${(error as Error).message}`)
    } finally {
      await this.file.close()
    }
  }
}
