print("qsm")
