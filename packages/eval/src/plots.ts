import { writeFile } from 'node:fs/promises';
import sharp from 'sharp';
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';

export interface LineSeries {
  name: string;
  /** y values at x = 0, 1, 2, … (e.g. Hits@10 after each round). */
  values: number[];
}

export interface LinePlotOptions {
  title?: string;
  xTitle?: string;
  yTitle?: string;
  width?: number;
  height?: number;
}

/** A Vega-Lite line chart of several series over x = 0…n−1, as SVG text. */
export async function linePlotSvg(
  series: readonly LineSeries[],
  options: LinePlotOptions = {},
): Promise<string> {
  const spec: TopLevelSpec = {
    width: options.width ?? 420,
    height: options.height ?? 260,
    ...(options.title && { title: options.title }),
    background: 'white',
    data: { values: series.flatMap((line) => line.values.map((y, x) => ({ x, y, series: line.name }))) },
    mark: { type: 'line', point: true },
    encoding: {
      x: { field: 'x', type: 'quantitative', title: options.xTitle ?? 'round', axis: { tickMinStep: 1 } },
      y: { field: 'y', type: 'quantitative', title: options.yTitle ?? 'value' },
      color: { field: 'series', type: 'nominal', title: null },
    },
  };
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
  const svg = await view.toSVG();
  view.finalize();
  return svg;
}

/** Writes a line chart as PNG (Vega-Lite → SVG → sharp), e.g. ChatIR Hits@10 per round for several methods. */
export async function writeLinePlotPng(
  file: string,
  series: readonly LineSeries[],
  options: LinePlotOptions = {},
): Promise<void> {
  const svg = await linePlotSvg(series, options);
  await writeFile(file, await sharp(Buffer.from(svg), { density: 144 }).png().toBuffer());
}
