import sharp from 'sharp';
import { encodePng } from '../images/encode-png';
import {
  ATTRIBUTE_VALUES,
  type AttributeName,
  CATEGORY_ATTRIBUTES,
  type Category,
  type Product,
} from './attributes';

export interface RenderOptions {
  /** Side length of the square picture in pixels. Default 64 (4×4 patches of the mini encoder's 16×16). */
  size?: number;
}

/** Drawings use a 64-unit canvas; `size` only scales it. */
const CANVAS = 64;
/** Largest side of a rasterized sheet of products, in pixels. */
const SHEET_SIDE = 1024;
const BACKGROUND = '#e9e7e1';
const OUTLINE = '#333333';

const COLOUR_FILLS: Record<string, string> = {
  red: '#d7263d',
  orange: '#f28a1d',
  yellow: '#f6d32d',
  green: '#2f9e44',
  blue: '#2b5fd9',
  purple: '#7b3fb8',
  pink: '#f59ac2',
  brown: '#8a5a2e',
  black: '#222222',
  white: '#ffffff',
};

/**
 * A category's drawing on the 64-unit canvas: the garment's fabric parts as path data, back to front (painted in
 * the colour and pattern), details drawn over them, and the centre of the logo.
 */
interface Drawing {
  fabric: string[];
  details: string;
  logoX: number;
  logoY: number;
}

type AttributeLookup = (name: AttributeName) => string;
type ProductLook = Pick<Product, 'category' | 'attributes'>;

/**
 * A flat picture of a product on a light neutral background, as SVG: one silhouette per category and a visible
 * change for every attribute value (colour, pattern, sleeve, neckline, length, fit, heel, size, logo).
 */
export function renderProductSvg(product: ProductLook, options: RenderOptions = {}): string {
  const size = options.size ?? CANVAS;
  return `<svg xmlns="http://www.w3.org/2000/svg" ${canvasAttributes(size)}>${productDrawing(product, 'product')}</svg>`;
}

/**
 * The product picture as an RGB PNG, byte-identical for the same product and size, and to the file
 * `renderCatalog` writes for it.
 *
 * @returns PNG bytes of a [3, size, size] picture
 */
export async function renderProductPng(
  product: ProductLook,
  options: RenderOptions = {},
): Promise<Uint8Array> {
  const [png] = await renderProductPngs([product], options);
  return png!;
}

/**
 * Many product pictures as RGB PNGs, rasterized a sheet at a time: one librsvg call per sheet of up to 1024×1024
 * pixels instead of one per product, because each sharp call has a fixed cost several times that of drawing a
 * 64 px product. Products sit at whole-pixel offsets and are drawn from paths only (no SVG <pattern>, whose
 * resampling depends on the offset), so a product's pixels do not depend on where it lands on a sheet.
 *
 * @returns PNG bytes of a [3, size, size] picture per product, in order
 */
export async function renderProductPngs(
  products: readonly ProductLook[],
  options: RenderOptions = {},
): Promise<Uint8Array[]> {
  const size = options.size ?? CANVAS;
  const columns = Math.max(1, Math.floor(SHEET_SIDE / size));
  const pngs: Uint8Array[] = [];
  for (let start = 0; start < products.length; start += columns * columns) {
    const sheetProducts = products.slice(start, start + columns * columns);
    const sheetWidth = Math.min(columns, sheetProducts.length) * size;
    const sheetHeight = Math.ceil(sheetProducts.length / columns) * size;
    const offset = (index: number) => ({
      left: (index % columns) * size,
      top: Math.floor(index / columns) * size,
    });
    const tiles = sheetProducts.map((product, index) => {
      const { left, top } = offset(index);
      return `<svg x="${left}" y="${top}" ${canvasAttributes(size)}>${productDrawing(product, `product-${index}`)}</svg>`;
    });
    const sheet = `<svg xmlns="http://www.w3.org/2000/svg" width="${sheetWidth}" height="${sheetHeight}">${tiles.join('')}</svg>`;
    const pixels = await sharp(Buffer.from(sheet)).removeAlpha().raw().toBuffer();
    const tilePngs = sheetProducts.map((_, index) => {
      const { left, top } = offset(index);
      const tile = new Uint8Array(size * size * 3);
      for (let row = 0; row < size; row++) {
        const sheetStart = ((top + row) * sheetWidth + left) * 3;
        tile.set(pixels.subarray(sheetStart, sheetStart + size * 3), row * size * 3);
      }
      return encodePng(tile, size, size);
    });
    pngs.push(...(await Promise.all(tilePngs)));
  }
  return pngs;
}

function canvasAttributes(size: number): string {
  return `width="${size}" height="${size}" viewBox="0 0 ${CANVAS} ${CANVAS}"`;
}

/** The product's SVG elements on the 64-unit canvas; `idPrefix` keeps its clip-path ids unique in the document. */
function productDrawing(product: ProductLook, idPrefix: string): string {
  for (const name of CATEGORY_ATTRIBUTES[product.category]) {
    const value = product.attributes[name];
    if (value === undefined || !(ATTRIBUTE_VALUES[name] as readonly string[]).includes(value)) {
      throw new Error(`cannot render a ${product.category} whose ${name} is ${JSON.stringify(value)}`);
    }
  }
  const attribute: AttributeLookup = (name) => product.attributes[name]!;
  const colour = COLOUR_FILLS[attribute('colour')]!;
  const accent = contrastingShade(colour);
  const drawing = DRAWINGS[product.category](attribute, accent);
  const marks = patternMarks(attribute('pattern'), colour, accent, pathBounds(drawing.fabric));
  const fills = drawing.fabric.map((path) => `<path d="${path}"/>`).join('');
  // Pattern marks are clipped to the fabric; outlines go on after them so marks never hide an edge.
  const pattern = marks
    ? `<clipPath id="${idPrefix}-fabric">${fills}</clipPath><g clip-path="url(#${idPrefix}-fabric)">${marks}</g>`
    : '';
  return (
    `<rect width="${CANVAS}" height="${CANVAS}" fill="${BACKGROUND}"/><g fill="${colour}">${fills}</g>${pattern}` +
    `<g stroke="${OUTLINE}" stroke-width="1" stroke-linejoin="round"><g fill="none">${fills}</g>${drawing.details}</g>` +
    logoSvg(attribute('logo'), drawing.logoX, drawing.logoY, luminance(colour) > 0.6)
  );
}

interface Bounds {
  left: number;
  top: number;
  right: number;
  bottom: number;
}

/**
 * Pattern marks in the accent shade, spaced widely enough to survive at 64 px. Marks are only generated over the
 * fabric's bounds: dots and flowers are most of the drawing cost, and the clip hides the rest anyway.
 */
function patternMarks(pattern: string, colour: string, accent: string, bounds: Bounds): string | undefined {
  const grid = (period: number) => {
    const centres: { x: number; y: number }[] = [];
    for (let y = period / 2; y - period / 2 < bounds.bottom; y += period) {
      if (y + period / 2 < bounds.top) continue;
      for (let x = period / 2; x - period / 2 < bounds.right; x += period) {
        if (x + period / 2 >= bounds.left) centres.push({ x, y });
      }
    }
    return centres;
  };
  const bands = (period: number, width: number, direction: 'horizontal' | 'vertical', at = 0) =>
    Array.from({ length: Math.ceil(CANVAS / period) }, (_, index) =>
      direction === 'horizontal'
        ? `M0 ${index * period + at}h${CANVAS}v${width}h-${CANVAS}z`
        : `M${index * period + at} 0v${CANVAS}h${width}v-${CANVAS}z`,
    ).join('');
  switch (pattern) {
    case 'striped':
      return `<path d="${bands(6, 3, 'horizontal')}" fill="${accent}"/>`;
    case 'dotted':
      return `<path d="${grid(6)
        .map(({ x, y }) => circlePath(x, y, 1.3))
        .join('')}" fill="${accent}"/>`;
    case 'plaid':
      // Two translucent band directions make the crossings darker; a thin solid line adds the tartan's overcheck.
      return (
        `<path d="${bands(10, 3, 'horizontal')}" fill="${accent}" fill-opacity="0.65"/>` +
        `<path d="${bands(10, 3, 'vertical')}" fill="${accent}" fill-opacity="0.65"/>` +
        `<path d="${bands(10, 1, 'vertical', 6)}" fill="${accent}"/>`
      );
    case 'floral': {
      // Four petals around a centre in the fill colour, so flowers never read as plain dots.
      const flowers = grid(12);
      const petals = flowers.flatMap(({ x, y }) =>
        [
          [0, -2],
          [0, 2],
          [-2, 0],
          [2, 0],
        ].map(([dx, dy]) => circlePath(x + dx!, y + dy!, 1.85)),
      );
      return (
        `<path d="${petals.join('')}" fill="${accent}"/>` +
        `<path d="${flowers.map(({ x, y }) => circlePath(x, y, 1)).join('')}" fill="${colour}"/>`
      );
    }
    default:
      return undefined;
  }
}

/** The bounding box of the end and control points of absolute path data (M, L, H, V, Q, C, A and Z commands). */
function pathBounds(paths: readonly string[]): Bounds {
  const bounds = { left: CANVAS, top: CANVAS, right: 0, bottom: 0 };
  const include = (x: number | undefined, y: number | undefined) => {
    if (x !== undefined) [bounds.left, bounds.right] = [Math.min(bounds.left, x), Math.max(bounds.right, x)];
    if (y !== undefined) [bounds.top, bounds.bottom] = [Math.min(bounds.top, y), Math.max(bounds.bottom, y)];
  };
  for (const path of paths) {
    for (const [, command, parameterText] of path.matchAll(/([A-Z])([^A-Z]*)/g)) {
      const parameters = parameterText!
        .trim()
        .split(/[\s,]+/)
        .filter(Boolean)
        .map(Number);
      if (command === 'H') for (const x of parameters) include(x, undefined);
      else if (command === 'V') for (const y of parameters) include(undefined, y);
      else if (command === 'A') include(parameters[5], parameters[6]);
      else
        for (let index = 0; index + 1 < parameters.length; index += 2)
          include(parameters[index], parameters[index + 1]);
    }
  }
  return bounds;
}

function circlePath(x: number, y: number, radius: number): string {
  return `M${x - radius} ${y}a${radius} ${radius} 0 1 0 ${2 * radius} 0a${radius} ${radius} 0 1 0 ${-2 * radius} 0z`;
}

/** The logo on the chest or front, dark on light products and white on dark ones, with a ring in the other. */
function logoSvg(logo: string, x: number, y: number, onLightColour: boolean): string {
  const style =
    `fill="${onLightColour ? '#222222' : '#ffffff'}" stroke="${onLightColour ? '#ffffff' : '#222222'}" ` +
    'stroke-width="0.8" stroke-linejoin="round"';
  switch (logo) {
    case 'star': {
      const points = Array.from({ length: 10 }, (_, index) => {
        const radius = index % 2 === 0 ? 5 : 2.1;
        const angle = (Math.PI / 5) * index - Math.PI / 2;
        return `${round(x + radius * Math.cos(angle))},${round(y + radius * Math.sin(angle))}`;
      });
      return `<polygon points="${points.join(' ')}" ${style}/>`;
    }
    case 'heart':
      return (
        `<path d="M${x} ${y + 4} C${x - 6} ${y} ${x - 4.5} ${y - 5} ${x} ${y - 2} ` +
        `C${x + 4.5} ${y - 5} ${x + 6} ${y} ${x} ${y + 4}Z" ${style}/>`
      );
    case 'circle':
      return `<circle cx="${x}" cy="${y}" r="3.6" ${style}/>`;
    default:
      return '';
  }
}

const FIT_HALF_WIDTH: Record<string, number> = { slim: 9, regular: 12, loose: 15 };

/**
 * One drawing per category. Fabric parts that overlap share their edges exactly (a sleeve's inner edge runs
 * along the body, a dress's skirt starts at the bodice hem), because every outline is drawn over every fill.
 */
const DRAWINGS: Record<Category, (attribute: AttributeLookup, accent: string) => Drawing> = {
  shirt: (attribute, accent) => {
    const body = top(
      attribute('sleeve'),
      attribute('neckline'),
      FIT_HALF_WIDTH[attribute('fit')]!,
      50,
      accent,
    );
    return { ...body, logoX: 32, logoY: 30 };
  },
  coat: (attribute, accent) => {
    const hem = { short: 37, medium: 48, long: 61 }[attribute('length')]!;
    const body = top(attribute('sleeve'), attribute('neckline'), 14, hem, accent);
    // The front opening, buttons and pockets are what tell a coat from a shirt.
    const buttons = [22, 30, 38, 46, 54]
      .filter((y) => y < hem - 3)
      .map((y) => `<circle cx="34.5" cy="${y}" r="1" fill="${OUTLINE}" stroke="none"/>`);
    const placket = `<path d="M32 ${body.neckDepth} V${hem}" fill="none" stroke-width="1.2"/>`;
    const pockets = `<path d="M21 ${hem - 8} H27 M37 ${hem - 8} H43" fill="none" stroke-width="1.2"/>`;
    return {
      fabric: body.fabric,
      details: body.details + placket + buttons.join('') + pockets,
      logoX: 40,
      logoY: 25,
    };
  },
  dress: (attribute, accent) => {
    const half = { slim: 8, regular: 10, loose: 12 }[attribute('fit')]!;
    const hem = { short: 40, medium: 50, long: 61 }[attribute('length')]!;
    const flare = half + 3 + (hem - 30) * 0.45;
    const skirt = `M${32 - half} 31 L${32 - flare} ${hem} Q32 ${hem + 2} ${32 + flare} ${hem} L${32 + half} 31Z`;
    const bodice = top(attribute('sleeve'), attribute('neckline'), half, 31, accent);
    return { fabric: [skirt, ...bodice.fabric], details: bodice.details, logoX: 32, logoY: 26 };
  },
  pants: (attribute, accent) => {
    const half = FIT_HALF_WIDTH[attribute('fit')]!;
    const hem = { short: 31, medium: 46, long: 61 }[attribute('length')]!;
    // Loose legs widen towards the hem, slim ones taper.
    const flare = { slim: -2, regular: 0, loose: 3 }[attribute('fit')]!;
    const legGap = 1.5;
    const legs =
      `M${32 - half} 6 H${32 + half} L${32 + half + flare} ${hem} H${32 + legGap} L32 22 L${32 - legGap} ${hem} ` +
      `H${32 - half - flare}Z`;
    const waistband = `<rect x="${32 - half}" y="6" width="${2 * half}" height="3" fill="${accent}"/>`;
    return { fabric: [legs], details: waistband, logoX: 32 - half / 2, logoY: 15 };
  },
  skirt: (attribute, accent) => {
    const hem = { short: 32, medium: 45, long: 60 }[attribute('length')]!;
    const hemHalf = { slim: 11, regular: 16, loose: 23 }[attribute('fit')]!;
    const body = `M22 12 H42 L${32 + hemHalf} ${hem} Q32 ${hem + 3} ${32 - hemHalf} ${hem}Z`;
    const waistband = `<rect x="22" y="12" width="20" height="3.5" fill="${accent}"/>`;
    return { fabric: [body], details: waistband, logoX: 32, logoY: 22 };
  },
  shoes: (attribute) => {
    const heel = { flat: 0, low: 5, high: 12 }[attribute('heel')]!;
    const shaftTop = { short: 40, medium: 27, long: 6 }[attribute('length')]!;
    const back = 55 - heel;
    // The upper: shaft at the back, instep sloping down to a rounded toe that always rests on the ground.
    const upper =
      `M11 ${back} V${shaftTop - heel / 3} H27 L28 ${Math.max(shaftTop, 41) - heel / 3} ` +
      `Q40 ${44 - heel / 4} 50 46 Q57 48 57 53 L56 55 H38 Q24 ${back} 11 ${back}Z`;
    const sole = '<path d="M38 55 H57" fill="none" stroke-width="2.2"/>';
    const heelBlock =
      heel === 0
        ? '<path d="M11 55 H38" fill="none" stroke-width="2.2"/>'
        : `<path d="M11 ${back} H${heel > 5 ? 17 : 20} L${heel > 5 ? 15.5 : 19.5} 55 H12Z" fill="${OUTLINE}"/>`;
    return { fabric: [upper], details: sole + heelBlock, logoX: 38, logoY: 49 };
  },
  bag: (attribute, accent) => {
    const [width, height] = { small: [26, 17], medium: [34, 23], large: [44, 29] }[attribute('size')]!;
    const top = 60 - height;
    const apex = top - { short: 8, medium: 19, long: 32 }[attribute('length')]!;
    const left = 32 - width / 2;
    const body =
      `M${left + 3} ${top} H${left + width - 3} A3 3 0 0 1 ${left + width} ${top + 3} V${top + height - 3} ` +
      `A3 3 0 0 1 ${left + width - 3} ${top + height} H${left + 3} A3 3 0 0 1 ${left} ${top + height - 3} ` +
      `V${top + 3} A3 3 0 0 1 ${left + 3} ${top}Z`;
    // The strap goes on top of the fabric but ends at the bag's top edge. A dark stroke under a narrower accent
    // stroke keeps a white strap outlined.
    const strapPath = `M${left + 4} ${top} C${left + 4} ${apex - 2} ${left + width - 4} ${apex - 2} ${left + width - 4} ${top}`;
    const strap =
      `<path d="${strapPath}" fill="none" stroke-width="3.6"/>` +
      `<path d="${strapPath}" fill="none" stroke="${accent}" stroke-width="1.8"/>`;
    const flap = `<path d="M${left} ${top + height / 3} H${left + width}" fill="none"/>`;
    return { fabric: [body], details: strap + flap, logoX: 32, logoY: top + height * 0.62 };
  },
};

/**
 * A garment top (shirt, coat, dress bodice): shoulders at y 10–13, sleeves behind the body, a neckline cut out of
 * the body so the background shows through it, and a collar drawn on top in the accent shade.
 */
function top(
  sleeve: string,
  neckline: string,
  halfWidth: number,
  hem: number,
  accent: string,
): { fabric: string[]; details: string; neckDepth: number } {
  const left = 32 - halfWidth;
  const right = 32 + halfWidth;
  const sleeves = {
    sleeveless: '',
    short:
      `M${left} 13 L${left - 8} 22 L${left - 3} 27 L${left} 23Z ` +
      `M${right} 13 L${right + 8} 22 L${right + 3} 27 L${right} 23Z`,
    long:
      `M${left} 13 L${left - 9} 47 L${left - 4} 49 L${left} 27Z ` +
      `M${right} 13 L${right + 9} 47 L${right + 4} 49 L${right} 27Z`,
  }[sleeve];
  const neck = {
    round: { path: 'Q32 20 28 10', depth: 15 },
    'v-neck': { path: 'L32 23 L28 10', depth: 23 },
    collared: { path: 'Q32 15 28 10', depth: 13 },
  }[neckline]!;
  // Sleeveless tops get narrow straps and a curved armhole instead of shoulders.
  const shoulders =
    sleeve === 'sleeveless'
      ? { left: `L${left + 3} 11 Q${left + 3} 20 ${left} 22`, right: `Q${right - 3} 20 ${right - 3} 11` }
      : { left: `L${left} 13`, right: `L${right} 13` };
  const body = `M28 10 ${shoulders.left} V${hem} H${right} V22 ${shoulders.right} L36 10 ${neck.path}Z`;
  const collar =
    neckline === 'collared'
      ? `<path d="M27.5 9 L32 15 L26 20Z M36.5 9 L32 15 L38 20Z" fill="${accent}"/>`
      : '';
  return { fabric: sleeves ? [sleeves, body] : [body], details: collar, neckDepth: neck.depth };
}

/** The accent of a colour: darker for light colours, lighter for dark ones, so patterns and trims stand out. */
function contrastingShade(hex: string): string {
  const channels = [1, 3, 5].map((start) => Number.parseInt(hex.slice(start, start + 2), 16));
  const light = luminance(hex) > 0.5;
  const mixed = channels.map((value) => Math.round(light ? value * 0.55 : value + (255 - value) * 0.6));
  return `#${mixed.map((value) => value.toString(16).padStart(2, '0')).join('')}`;
}

/** Relative luminance in [0, 1] (Rec. 709 weights on the encoded values, close enough to pick a contrast). */
function luminance(hex: string): number {
  const [red, green, blue] = [1, 3, 5].map((start) => Number.parseInt(hex.slice(start, start + 2), 16) / 255);
  return 0.2126 * red! + 0.7152 * green! + 0.0722 * blue!;
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}
