global using BareLb.Membership;
