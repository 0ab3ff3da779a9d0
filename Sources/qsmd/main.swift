print("qsmd")
