"""Renders one tile of the Mandelbrot set to a binary PPM image, as a render farm renders a frame tile.

Deterministic on any machine: escape-time iteration with IEEE-754 multiplications and additions
only, integer colours. The tile (bounds, size, iterations) is the input tile.json.
"""

import json


def colour(n: int, limit: int) -> tuple[int, int, int]:
    if n == limit:
        return (0, 0, 0)
    return ((n * 9) % 256, (n * 5 + 40) % 256, (255 - n * 3) % 256)


def main() -> None:
    with open("tile.json") as f:
        tile = json.load(f)
    width, height, limit = tile["width"], tile["height"], tile["max_iter"]
    x0, x1, y0, y1 = tile["x0"], tile["x1"], tile["y0"], tile["y1"]
    pixels = bytearray()
    for row in range(height):
        ci = y0 + (y1 - y0) * row / (height - 1)
        for col in range(width):
            cr = x0 + (x1 - x0) * col / (width - 1)
            zr = zi = 0.0
            n = 0
            while n < limit and zr * zr + zi * zi <= 4.0:
                zr, zi = zr * zr - zi * zi + cr, 2.0 * zr * zi + ci
                n += 1
            pixels += bytes(colour(n, limit))
    with open("tile.ppm", "wb") as f:
        f.write(f"P6\n{width} {height}\n255\n".encode() + bytes(pixels))


main()
