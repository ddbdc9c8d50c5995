//! A latency-over-time chart as a PNG, written without a plotting library: a scatter of
//! (seconds since the start, latency) on a white canvas with light grid lines (a 1-2-5 step
//! of milliseconds, at most ten) and one every 5 seconds. No text: the report's JSON carries the
//! numbers; the picture shows the shape (steady, drifting, stalls).
//!
//! The PNG is RGB, 8 bits per channel, with the image data in uncompressed deflate blocks
//! (valid PNG, larger than a compressed one, and no compression crate needed).

/// One point: seconds since the start, latency in milliseconds.
pub type Point = (f64, f64);

const WIDTH: usize = 1000;
const HEIGHT: usize = 500;
const MARGIN: usize = 20;

/// Renders `points` into a PNG; the y axis runs from 0 to the largest latency, with a grid
/// line every `min_grid_ms` or a coarser 1-2-5 step so that there are at most ten.
pub fn latency_png(points: &[Point], min_grid_ms: f64) -> Vec<u8> {
    let mut pixels = vec![255u8; WIDTH * HEIGHT * 3];
    let max_x = points.iter().map(|p| p.0).fold(1.0, f64::max);
    let max_y = points.iter().map(|p| p.1).fold(min_grid_ms, f64::max);
    let grid_ms = nice_step(max_y / 10.0).max(min_grid_ms);
    let plot_w = (WIDTH - 2 * MARGIN) as f64;
    let plot_h = (HEIGHT - 2 * MARGIN) as f64;
    let to_px = |x: f64, y: f64| {
        let px = MARGIN + (x / max_x * plot_w).round().clamp(0.0, plot_w) as usize;
        let py = HEIGHT - MARGIN - (y / max_y * plot_h).round().clamp(0.0, plot_h) as usize;
        (px, py)
    };
    let mut set = |x: usize, y: usize, rgb: [u8; 3]| {
        if x < WIDTH && y < HEIGHT {
            let at = (y * WIDTH + x) * 3;
            pixels[at..at + 3].copy_from_slice(&rgb);
        }
    };
    // Grid: horizontal lines every grid_ms, vertical every 5 s; then the axes.
    let mut level = grid_ms;
    while level < max_y {
        let (_, y) = to_px(0.0, level);
        for x in MARGIN..WIDTH - MARGIN {
            set(x, y, [225, 225, 225]);
        }
        level += grid_ms;
    }
    let mut second = 5.0;
    while second < max_x {
        let (x, _) = to_px(second, 0.0);
        for y in MARGIN..HEIGHT - MARGIN {
            set(x, y, [225, 225, 225]);
        }
        second += 5.0;
    }
    for x in MARGIN..WIDTH - MARGIN {
        set(x, HEIGHT - MARGIN, [0, 0, 0]);
    }
    for y in MARGIN..=HEIGHT - MARGIN {
        set(MARGIN, y, [0, 0, 0]);
    }
    for &(x, y) in points {
        let (px, py) = to_px(x, y);
        for (dx, dy) in [(0, 0), (1, 0), (0, 1), (1, 1)] {
            set(px + dx, py + dy, [31, 119, 180]);
        }
    }
    encode_png(&pixels)
}

/// The smallest 1, 2 or 5 × 10^k at least `rough`.
fn nice_step(rough: f64) -> f64 {
    let magnitude = 10f64.powf(rough.max(1.0).log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * magnitude)
        .find(|step| *step >= rough)
        .unwrap_or(10.0 * magnitude)
}

fn encode_png(rgb: &[u8]) -> Vec<u8> {
    let mut raw = Vec::with_capacity(rgb.len() + HEIGHT);
    for row in rgb.chunks(WIDTH * 3) {
        raw.push(0); // filter: none
        raw.extend_from_slice(row);
    }
    let mut png = vec![0x89, b'P', b'N', b'G', b'\r', b'\n', 0x1a, b'\n'];
    let mut header = Vec::new();
    header.extend_from_slice(&(WIDTH as u32).to_be_bytes());
    header.extend_from_slice(&(HEIGHT as u32).to_be_bytes());
    header.extend_from_slice(&[8, 2, 0, 0, 0]); // 8-bit RGB, deflate, no filter, no interlace
    chunk(&mut png, b"IHDR", &header);
    chunk(&mut png, b"IDAT", &zlib_stored(&raw));
    chunk(&mut png, b"IEND", &[]);
    png
}

fn chunk(png: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    png.extend_from_slice(&(data.len() as u32).to_be_bytes());
    let start = png.len();
    png.extend_from_slice(kind);
    png.extend_from_slice(data);
    let crc = crc32(&png[start..]);
    png.extend_from_slice(&crc.to_be_bytes());
}

/// A zlib stream of uncompressed deflate blocks (at most 65,535 bytes each).
fn zlib_stored(data: &[u8]) -> Vec<u8> {
    let mut out = vec![0x78, 0x01];
    let blocks: Vec<&[u8]> = data.chunks(65_535).collect();
    for (index, block) in blocks.iter().enumerate() {
        out.push(u8::from(index + 1 == blocks.len()));
        let len = block.len() as u16;
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&(!len).to_le_bytes());
        out.extend_from_slice(block);
    }
    let (mut a, mut b) = (1u32, 0u32);
    for &byte in data {
        a = (a + u32::from(byte)) % 65_521;
        b = (b + a) % 65_521;
    }
    out.extend_from_slice(&((b << 16) | a).to_be_bytes());
    out
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &byte in bytes {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc_and_png_structure_are_right() {
        assert_eq!(
            crc32(b"IEND"),
            0xAE42_6082,
            "the well-known CRC of an empty IEND chunk"
        );
        let png = latency_png(&[(0.0, 10.0), (1.0, 250.0), (2.0, 40.0)], 100.0);
        assert_eq!(
            &png[..8],
            &[0x89, b'P', b'N', b'G', b'\r', b'\n', 0x1a, b'\n']
        );
        assert_eq!(&png[12..16], b"IHDR");
        assert_eq!(&png[png.len() - 8..png.len() - 4], b"IEND");
        assert_eq!(nice_step(930.0), 1000.0);
        assert_eq!(nice_step(120.0), 200.0);
    }
}
