"""The 3D reconstruction branch (green box of Figure 2): ReconNet, its losses, skin attention."""
