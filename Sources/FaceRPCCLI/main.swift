print("facerpc")
