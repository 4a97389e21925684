//! Enough of PNG (RFC 2083 / ISO 15948) to look at chromium's screenshots: 8-bit RGB or RGBA,
//! not interlaced, its IDAT chunks inflated with miniz_oxide (already a dependency) and the
//! scanline filters undone (§6), so a test can ask what colour a region of the page has.

/// A decoded image: `width * height` pixels, row by row, as RGB.
pub struct Image {
    pub width: usize,
    pub height: usize,
    pixels: Vec<[u8; 3]>,
}

impl Image {
    /// Pixels in the rectangle `x0..x1` by `y0..y1` (clipped to the image) for which `wanted`
    /// holds.
    pub fn count_in(
        &self,
        (x0, y0, x1, y1): (f64, f64, f64, f64),
        mut wanted: impl FnMut([u8; 3]) -> bool,
    ) -> usize {
        let clip = |v: f64, max: usize| (v.max(0.0) as usize).min(max);
        let (x0, x1) = (clip(x0.floor(), self.width), clip(x1.ceil(), self.width));
        let (y0, y1) = (clip(y0.floor(), self.height), clip(y1.ceil(), self.height));
        let mut count = 0;
        for y in y0..y1 {
            for x in x0..x1 {
                count += usize::from(wanted(self.pixels[y * self.width + x]));
            }
        }
        count
    }
}

/// Decodes `png`; panics on what a screenshot never is (another bit depth, a palette,
/// interlacing).
pub fn decode(png: &[u8]) -> Image {
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n", "not a PNG");
    let (mut header, mut idat) = (None, Vec::new());
    let mut at = 8;
    while at + 8 <= png.len() {
        let len = u32::from_be_bytes(png[at..at + 4].try_into().unwrap()) as usize;
        let body = &png[at + 8..at + 8 + len];
        match &png[at + 4..at + 8] {
            b"IHDR" => header = Some(body.to_vec()),
            b"IDAT" => idat.extend_from_slice(body),
            _ => {}
        }
        at += 12 + len;
    }
    let header = header.expect("an IHDR chunk");
    let width = u32::from_be_bytes(header[0..4].try_into().unwrap()) as usize;
    let height = u32::from_be_bytes(header[4..8].try_into().unwrap()) as usize;
    let (depth, colour, interlace) = (header[8], header[9], header[12]);
    assert_eq!((depth, interlace), (8, 0), "8-bit, not interlaced");
    let channels = match colour {
        2 => 3,
        6 => 4,
        other => panic!("colour type {other} (a screenshot is RGB or RGBA)"),
    };
    let raw = miniz_oxide::inflate::decompress_to_vec_zlib(&idat).expect("PNG data inflates");
    let stride = width * channels;
    assert_eq!(raw.len(), height * (stride + 1), "one filter byte and a row per line");
    let mut rows = vec![0u8; height * stride];
    for y in 0..height {
        let filter = raw[y * (stride + 1)];
        let line = &raw[y * (stride + 1) + 1..(y + 1) * (stride + 1)];
        for i in 0..stride {
            let a = if i >= channels { rows[y * stride + i - channels] } else { 0 };
            let b = if y > 0 { rows[(y - 1) * stride + i] } else { 0 };
            let c = if y > 0 && i >= channels { rows[(y - 1) * stride + i - channels] } else { 0 };
            let predicted = match filter {
                0 => 0,
                1 => a,
                2 => b,
                3 => ((a as u16 + b as u16) / 2) as u8,
                4 => paeth(a, b, c),
                other => panic!("filter type {other}"),
            };
            rows[y * stride + i] = line[i].wrapping_add(predicted);
        }
    }
    let pixels = rows.chunks_exact(channels).map(|p| [p[0], p[1], p[2]]).collect();
    Image { width, height, pixels }
}

/// The Paeth predictor (RFC 2083 §6.6).
fn paeth(a: u8, b: u8, c: u8) -> u8 {
    let p = a as i16 + b as i16 - c as i16;
    let (pa, pb, pc) = ((p - a as i16).abs(), (p - b as i16).abs(), (p - c as i16).abs());
    if pa <= pb && pa <= pc {
        a
    } else if pb <= pc {
        b
    } else {
        c
    }
}

/// Whether `pixel` is within `tolerance` of `colour` in every channel.
pub fn near(pixel: [u8; 3], colour: [u8; 3], tolerance: u8) -> bool {
    pixel.iter().zip(colour).all(|(p, c)| p.abs_diff(c) <= tolerance)
}
