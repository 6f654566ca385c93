print("filling")
